-- The web_attack_paths seed as analysts edit it: known probes match, ordinary pages of a
-- marketing site do not. Returns the request targets classified otherwise.

with

known_requests as (
    select requests.request_uri, requests.is_attack_expected from (values
        ('/wp-login.php', true),
        ('/blog/wp-login.php?action=register', true),
        ('/xmlrpc.php', true),
        ('/.env', true),
        ('/phpmyadmin/index.php', true),
        ('/static/../../etc/passwd', true),
        ('/cgi-bin/test.cgi', true),
        ('/.git/config', true),
        ('/join_form', true),
        ('/login_form', true),
        ('/acl_users/credentials_cookie_auth/require_login?came_from=http%3A//example.com/join_form', true),
        ('/blog?id=1%27%20AND%201%3D1--%20-', true),
        ('/products?id=1%20UNION%20ALL%20SELECT%20NULL%2CNULL--', true),
        ('/search?q=%3Cscript%3Ealert(1)%3C%2Fscript%3E', true),
        ('/.DS_Store', true),
        ('/', false),
        ('/pricing?utm_source=google', false),
        ('/search?q=salesforce%20and%20hubspot', false),
        ('/blog/selecting-a-union-representative', false),
        ('/blog/environment-variables', false),
        ('/wp-content/uploads/2024/05/logo.png', false),
        ('/docs/login-with-sso', false),
        ('/presentations/logstash/images/kibana-search.png', false)
    ) as requests (request_uri, is_attack_expected)
),

matched as (
    select
        known_requests.request_uri as request_uri,
        count(paths.pattern) > 0 as is_attack_actual
    from known_requests
    left join {{ ref('web_attack_paths') }} as paths
        on {{ regex_matches('known_requests.request_uri', 'paths.pattern', true) }}
    group by known_requests.request_uri
)

select
    known_requests.request_uri,
    known_requests.is_attack_expected,
    matched.is_attack_actual
from known_requests
inner join matched
    on known_requests.request_uri = matched.request_uri
where known_requests.is_attack_expected <> matched.is_attack_actual
