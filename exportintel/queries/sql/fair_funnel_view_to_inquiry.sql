-- The fair-visitor funnel per day: sessions that viewed a profile, saved one, then inquired.
WITH per_session AS (
    SELECT event_date, session_id,
           max(CASE WHEN event_type = 'profile_view' THEN 1 ELSE 0 END) AS viewed,
           max(CASE WHEN event_type = 'save' THEN 1 ELSE 0 END) AS saved,
           max(CASE WHEN event_type = 'inquiry' THEN 1 ELSE 0 END) AS inquired
    FROM web_events
    GROUP BY event_date, session_id
)
SELECT event_date, count(*) AS sessions, sum(viewed) AS viewed, sum(saved) AS saved,
       sum(inquired) AS inquired,
       CAST(sum(inquired) AS DOUBLE) / nullif(sum(viewed), 0) AS view_to_inquiry_rate
FROM per_session
GROUP BY event_date
ORDER BY event_date DESC
