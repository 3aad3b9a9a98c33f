-- The fair-visitor funnel per day (Seoul time): sessions that viewed a profile, saved one,
-- then inquired, over the last twelve months of events.
WITH per_session AS (
    SELECT CAST(event_time AT TIME ZONE 'Asia/Seoul' AS DATE) AS day, session_id,
           max(CASE WHEN event_type = 'profile_view' THEN 1 ELSE 0 END) AS viewed,
           max(CASE WHEN event_type = 'save' THEN 1 ELSE 0 END) AS saved,
           max(CASE WHEN event_type = 'inquiry' THEN 1 ELSE 0 END) AS inquired
    FROM web_events
    WHERE event_month >= (SELECT date_format(max(event_time) - INTERVAL '365' DAY, '%Y-%m')
                          FROM web_events)
    GROUP BY CAST(event_time AT TIME ZONE 'Asia/Seoul' AS DATE), session_id
)
SELECT day, count(*) AS sessions, sum(viewed) AS viewed, sum(saved) AS saved,
       sum(inquired) AS inquired,
       CAST(sum(inquired) AS DOUBLE) / nullif(sum(viewed), 0) AS view_to_inquiry_rate
FROM per_session
GROUP BY day
ORDER BY day DESC
