-- Matchmaking outcomes by channel and year: meetings held and deals closed per request.
SELECT year(requested_on) AS year, channel, count(*) AS requests,
       avg(CASE WHEN meeting_held THEN 1.0 ELSE 0.0 END) AS meeting_rate,
       avg(CASE WHEN deal_closed THEN 1.0 ELSE 0.0 END) AS deal_rate,
       sum(deal_value_usd) AS deal_value_usd
FROM match_history
GROUP BY year(requested_on), channel
ORDER BY year DESC, channel
