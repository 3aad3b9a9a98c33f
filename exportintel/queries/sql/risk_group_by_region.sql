-- The risk group of the latest scored year by region: firms scored, firms at risk, their share
-- and mean index, most affected regions first.
WITH latest AS (
    SELECT max(year) AS y FROM continuity_index
)
SELECT coalesce(region, 'unknown') AS region, count(*) AS firms, count_if(risk_group) AS at_risk,
       round(avg(CAST(risk_group AS integer)), 3) AS risk_share,
       round(avg(continuity_index), 3) AS mean_index
FROM continuity_index
WHERE year = (SELECT y FROM latest)
GROUP BY coalesce(region, 'unknown')
ORDER BY risk_share DESC, firms DESC
