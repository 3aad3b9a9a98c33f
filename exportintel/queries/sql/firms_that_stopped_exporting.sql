-- Firms that exported the year before the last observed year but not in it: who to call first.
WITH last_year AS (
    SELECT max(year) AS y FROM export_history
), yearly AS (
    SELECT firm_id, year, sum(export_value_usd) AS export_value_usd
    FROM export_history
    GROUP BY firm_id, year
)
SELECT e.firm_id, e.region, prev.export_value_usd AS export_value_usd_year_before,
       (SELECT y FROM last_year) AS stopped_in_year
FROM yearly AS prev
JOIN exporters AS e ON e.firm_id = prev.firm_id
WHERE prev.year = (SELECT y FROM last_year) - 1
  AND NOT EXISTS (
      SELECT 1 FROM yearly AS cur
      WHERE cur.firm_id = prev.firm_id AND cur.year = (SELECT y FROM last_year)
  )
ORDER BY prev.export_value_usd DESC
