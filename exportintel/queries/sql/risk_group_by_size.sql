-- The risk group by firm size band and year: how the share at risk moves for small, medium and
-- large exporters (size from employees: small < 50, medium < 300).
SELECT year, coalesce(size_band, 'unknown') AS size_band, count(*) AS firms,
       count_if(risk_group) AS at_risk,
       round(avg(CAST(risk_group AS integer)), 3) AS risk_share,
       round(approx_percentile(continuity_index, 0.5), 3) AS median_index
FROM continuity_index
GROUP BY year, coalesce(size_band, 'unknown')
ORDER BY year DESC, size_band
