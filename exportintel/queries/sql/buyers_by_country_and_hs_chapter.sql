-- Buyers in good standing by country and wanted HS chapter: where demand sits.
SELECT b.country_code, substr(code, 1, 2) AS hs_chapter, count(DISTINCT b.buyer_id) AS buyers,
       avg(b.desired_price_max_usd) AS avg_max_price_usd
FROM buyers AS b
CROSS JOIN UNNEST(b.hs_codes_wanted) AS t(code)
WHERE NOT b.bad_credit
GROUP BY b.country_code, substr(code, 1, 2)
ORDER BY buyers DESC
LIMIT 200
