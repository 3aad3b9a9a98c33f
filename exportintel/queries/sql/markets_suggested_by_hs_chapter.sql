-- Market suggestions of the latest model version by HS chapter and suggested country: how many
-- exporters of the chapter the country was suggested to (among each firm's top five), its mean
-- rank among their suggestions, and the share of novice exporters among them.
WITH latest AS (
    SELECT max(model_version) AS version FROM market_suggestions
)
SELECT hs_chapter, country_code, count(DISTINCT firm_id) AS firms,
       round(avg(rank), 2) AS mean_rank,
       round(avg(CAST(novice AS integer)), 3) AS novice_share
FROM market_suggestions
WHERE model_version = (SELECT version FROM latest)
GROUP BY hs_chapter, country_code
ORDER BY hs_chapter, firms DESC, country_code
