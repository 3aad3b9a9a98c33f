-- The risk group of the latest scored year by main HS chapter: firms scored, firms at risk, their
-- share, and the risk factor most often first among them.
WITH latest AS (
    SELECT max(year) AS y FROM continuity_index
), scored AS (
    SELECT * FROM continuity_index WHERE year = (SELECT y FROM latest)
), first_factors AS (
    SELECT hs_chapter, element_at(risk_factors, 1) AS factor, count(*) AS firms
    FROM scored
    WHERE risk_group AND cardinality(risk_factors) > 0
    GROUP BY hs_chapter, element_at(risk_factors, 1)
), top_factor AS (
    SELECT hs_chapter, factor,
           row_number() OVER (PARTITION BY hs_chapter ORDER BY firms DESC, factor) AS n
    FROM first_factors
)
SELECT s.hs_chapter, count(*) AS firms, count_if(s.risk_group) AS at_risk,
       round(avg(CAST(s.risk_group AS integer)), 3) AS risk_share,
       max(t.factor) AS most_frequent_first_factor
FROM scored AS s
LEFT JOIN top_factor AS t ON t.hs_chapter = s.hs_chapter AND t.n = 1
GROUP BY s.hs_chapter
ORDER BY at_risk DESC, s.hs_chapter
