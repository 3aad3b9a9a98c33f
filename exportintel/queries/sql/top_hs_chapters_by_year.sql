-- Top 10 HS chapters by export value in each year, with their share of that year's exports.
WITH by_chapter AS (
    SELECT year, substr(hs_code, 1, 2) AS hs_chapter, sum(export_value_usd) AS export_value_usd,
           count(DISTINCT firm_id) AS exporters
    FROM export_history
    GROUP BY year, substr(hs_code, 1, 2)
), ranked AS (
    SELECT *, rank() OVER (PARTITION BY year ORDER BY export_value_usd DESC) AS rank_in_year,
           export_value_usd / sum(export_value_usd) OVER (PARTITION BY year) AS share_of_year
    FROM by_chapter
)
SELECT year, rank_in_year, hs_chapter, export_value_usd, share_of_year, exporters
FROM ranked
WHERE rank_in_year <= 10
ORDER BY year DESC, rank_in_year
