-- Yearly average KRW per USD against total export value and its change on the year before.
WITH krw AS (
    SELECT year(rate_date) AS year, avg(krw_per_unit) AS krw_per_usd
    FROM fx_rates
    WHERE currency = 'USD'
    GROUP BY year(rate_date)
), exports AS (
    SELECT year, sum(export_value_usd) AS export_value_usd
    FROM export_history
    GROUP BY year
)
SELECT e.year, k.krw_per_usd,
       k.krw_per_usd / lag(k.krw_per_usd) OVER (ORDER BY e.year) - 1 AS krw_per_usd_change,
       e.export_value_usd,
       e.export_value_usd / lag(e.export_value_usd) OVER (ORDER BY e.year) - 1 AS export_change
FROM exports AS e
JOIN krw AS k ON k.year = e.year
ORDER BY e.year
