-- The user_agent_patterns seed as analysts edit it: well-known agents get the expected bot
-- category, and real browsers (including phone brands whose names contain "bot") none.
-- Returns the agents classified otherwise.

with

known_agents as (
    select agents.user_agent, agents.expected_category from (values
        ('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'crawler'),
        ('Mozilla/5.0 (Linux; Android 6.0.1; Nexus 5X Build/MMB29P) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.6422.60 Mobile Safari/537.36 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)', 'crawler'),
        ('Mozilla/5.0 (compatible; bingbot/2.0; +http://www.bing.com/bingbot.htm)', 'crawler'),
        ('Mozilla/5.0 (compatible; YandexBot/3.0; +http://yandex.com/bots)', 'crawler'),
        ('Mozilla/5.0 (compatible; AhrefsBot/7.0; +http://ahrefs.com/robot/)', 'crawler'),
        ('facebookexternalhit/1.1 (+http://www.facebook.com/externalhit_uatext.php)', 'crawler'),
        ('LinkedInBot/1.0 (compatible; Mozilla/5.0; Apache-HttpClient +http://www.linkedin.com)', 'crawler'),
        ('UniversalFeedParser/4.2-pre-314-svn +http://feedparser.org/', 'crawler'),
        ('Mozilla/5.0 AppleWebKit/537.36 (KHTML, like Gecko; compatible; GPTBot/1.2; +https://openai.com/gptbot)', 'crawler'),
        ('Mozilla/5.0+(compatible; UptimeRobot/2.0; http://www.uptimerobot.com/)', 'uptime_monitor'),
        ('Pingdom.com_bot_version_1.4_(http://www.pingdom.com/)', 'uptime_monitor'),
        ('Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)', 'email_scanner'),
        ('sqlmap/1.7.2#stable (https://sqlmap.org)', 'scanner'),
        ('Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)', 'scanner'),
        ('curl/8.1.2', 'http_library'),
        ('python-requests/2.31.0', 'http_library'),
        ('Go-http-client/1.1', 'http_library'),
        ('Wget/1.21.4', 'http_library'),
        ('', 'http_library'),
        ('Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/125.0.0.0 Safari/537.36', null),
        ('Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1', null),
        ('Mozilla/5.0 (Macintosh; Intel Mac OS X 10.15; rv:126.0) Gecko/20100101 Firefox/126.0', null),
        ('Mozilla/5.0 (Linux; Android 10; CUBOT_X19) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Mobile Safari/537.36', null),
        ('Mozilla/5.0 (Windows NT 6.1) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/39.0.2171.95 Safari/537.36 OPR/26.0.1656.60', null)
    ) as agents (user_agent, expected_category)
),

matches as (
    select
        known_agents.user_agent as user_agent,
        patterns.bot_category as bot_category,
        row_number() over (partition by known_agents.user_agent order by patterns.priority) as match_rank
    from known_agents
    inner join {{ ref('user_agent_patterns') }} as patterns
        on {{ regex_matches('known_agents.user_agent', 'patterns.pattern', true) }}
)

select
    known_agents.user_agent,
    known_agents.expected_category,
    matches.bot_category as actual_category
from known_agents
left join matches
    on known_agents.user_agent = matches.user_agent
    and matches.match_rank = 1
where coalesce(matches.bot_category, '-') <> coalesce(known_agents.expected_category, '-')
