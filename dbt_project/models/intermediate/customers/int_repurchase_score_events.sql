{#- Everything that earns a customer account repurchase points, per account and rulebook, as
    terms in the shapes of the scoring engine (int_score_events: each term is worth term_points
    from starts_at until ends_at, shaped by term_kind; term_share_at() reads them at any
    instant). Four kinds of rows (seed customer_rules):
    - purchase_cycle: after each purchase, points that grow with the time since it relative to
      the account's cycle as known then (int_account_purchase_cycles): `points` once a whole
      cycle has passed, capped at cap_points, and reset by the next purchase (every term ends
      there). Stepped: one constant term per step of step_months, worth points * step_months /
      cycle_months (the guide's 20 a month for a 3-month buyer). Linear: a growing term
      (term_points * days since the purchase / cycle days) until the cap is reached, then a
      constant term of the cap;
    - activity: a behaviour rule of activity_rules triggered by a person of the account after
      its first purchase, worth the customer rule's points (at most cap_points per account, rule
      and UTC day), decaying by its decay profile;
    - new_product_line: the same for activities about a product line the account had not
      bought by then (an activity with a product line: a product page, a form);
    - new_person: a person of the account's company created in the CRM after its first
      purchase.
    A purchase resets everything: cycle terms and signal terms alike end at the account's next
    purchase (the signals before it led to it). -#}

with

as_of as (
    select as_of from {{ ref('int_scoring_as_of') }}
),

rules as (
    select * from {{ ref('customer_rules') }}
),

cycles as (
    select * from {{ ref('int_account_purchase_cycles') }}
    where cycle_months > 0
),

customers as (
    select account_id, min(purchased_at) as customer_since
    from {{ ref('int_account_purchases') }}
    group by account_id
),

-- A person's account: their contact record's, else any of their records'.
person_accounts as (
    select
        person_id,
        coalesce(
            max(case when person_type = 'contact' then account_id end),
            max(account_id)
        ) as account_id,
        min(person_created_at) as person_created_at
    from {{ ref('int_people') }}
    group by person_id
),

cycle_rules as (
    select
        cycles.*,
        rules.rulebook_id,
        rules.rule_id,
        rules.description,
        rules.points,
        rules.shape,
        rules.step_months,
        rules.cap_points,
        rules.points * rules.step_months / cycles.cycle_months as step_points,
        -- Months after the purchase when the cap is reached (never when there is none).
        rules.cap_points / rules.points * cycles.cycle_months as cap_months
    from cycles
    inner join rules
        on rules.rule_type = 'purchase_cycle'
        and rules.points > 0
),

step_numbers as (
    {{ day_numbers('1', '600') }}
),

stepped_terms as (
    select
        cycle_rules.*,
        step_numbers.dn as term_number,
        'constant' as term_kind,
        case when cycle_rules.cap_points is null then cycle_rules.step_points
            else least(cycle_rules.step_points, cycle_rules.cap_points - (step_numbers.dn - 1) * cycle_rules.step_points)
        end as term_points,
        {{ add_days('cycle_rules.purchased_at',
            'step_numbers.dn * cycle_rules.step_months * ' ~ days_per_month()) }} as starts_at,
        cast(null as {{ type_double() }}) as lifetime_days
    from cycle_rules
    inner join step_numbers
        on cycle_rules.shape = 'stepped'
        and cycle_rules.step_months > 0
        and (cycle_rules.cap_points is null or (step_numbers.dn - 1) * cycle_rules.step_points < cycle_rules.cap_points)
        and step_numbers.dn * cycle_rules.step_months * {{ days_per_month() }}
            <= {{ days_between('cycle_rules.purchased_at', 'coalesce(cycle_rules.next_purchased_at, (select as_of from as_of))') }}
),

linear_terms as (
    select
        cycle_rules.*,
        1 as term_number,
        'growing' as term_kind,
        cycle_rules.points as term_points,
        cycle_rules.purchased_at as starts_at,
        cycle_rules.cycle_months * {{ days_per_month() }} as lifetime_days
    from cycle_rules
    where cycle_rules.shape = 'linear'
    union all
    select
        cycle_rules.*,
        2,
        'constant',
        cycle_rules.cap_points,
        {{ add_days('cycle_rules.purchased_at', 'cycle_rules.cap_months * ' ~ days_per_month()) }},
        cast(null as {{ type_double() }})
    from cycle_rules
    where cycle_rules.shape = 'linear'
        and cycle_rules.cap_points is not null
        and cycle_rules.cap_months * {{ days_per_month() }}
            < {{ days_between('cycle_rules.purchased_at', 'coalesce(cycle_rules.next_purchased_at, (select as_of from as_of))') }}
),

cycle_terms as (
    select
        terms.account_id,
        terms.rulebook_id,
        'purchase_cycle' as source_type,
        terms.opportunity_id as source_id,
        cast(null as {{ dbt.type_string() }}) as person_id,
        terms.rule_id,
        terms.description,
        terms.purchased_at as event_at,
        terms.points,
        terms.term_number,
        terms.term_kind,
        terms.term_points,
        terms.starts_at,
        -- The growing term stops where the cap takes over; every term stops at the next purchase.
        case when terms.term_kind = 'growing' and terms.cap_points is not null
            then least(
                {{ add_days('terms.purchased_at', 'terms.cap_months * ' ~ days_per_month()) }},
                coalesce(terms.next_purchased_at, {{ add_days('terms.purchased_at', 'terms.cap_months * ' ~ days_per_month()) }}))
            else terms.next_purchased_at
        end as ends_at,
        cast(null as {{ type_double() }}) as half_life_days,
        terms.lifetime_days,
        terms.purchase_number,
        terms.cycle_months,
        terms.cycle_source
    from (
        select * from stepped_terms
        union all
        select * from linear_terms
    ) as terms
    where terms.term_points > 0
        and terms.starts_at <= (select as_of from as_of)
),

-- The people of customer accounts, with when their account became a customer: joined to the
-- hits on the person, so the hits are never range-joined to the accounts.
customer_people as (
    select person_accounts.person_id, person_accounts.account_id, customers.customer_since
    from person_accounts
    inner join customers
        on person_accounts.account_id = customers.account_id
),

-- When the account first bought each product line.
bought_lines as (
    select account_id, product_line, min(purchased_at) as first_bought_at
    from {{ ref('int_account_purchases') }}
    where product_line is not null
    group by account_id, product_line
),

-- Behaviour hits of customers' people, at most cap_points per account, rule and UTC day
-- (the earliest hits first).
customer_hits as (
    select
        customer_people.account_id,
        hits.rulebook_id,
        hits.activity_id,
        hits.person_id,
        hits.event_at,
        rules.rule_id,
        rules.description,
        rules.points,
        rules.cap_points,
        rules.decay_profile_id,
        sum(rules.points) over (
            partition by customer_people.account_id, hits.rulebook_id, rules.rule_id, cast(hits.event_at as date)
            order by hits.event_at, hits.activity_id, hits.person_id
            rows between unbounded preceding and current row
        ) - rules.points as points_before_in_day
    from {{ ref('int_activity_rule_hits') }} as hits
    inner join rules
        on hits.rulebook_id = rules.rulebook_id
        and hits.rule_id = rules.activity_rule_id
        and rules.rule_type in ('activity', 'new_product_line')
    inner join customer_people
        on hits.person_id = customer_people.person_id
    left join bought_lines
        on customer_people.account_id = bought_lines.account_id
        and hits.product_line = bought_lines.product_line
    where hits.event_at >= customer_people.customer_since
        and (rules.rule_type = 'activity'
            or (hits.product_line is not null
                and (bought_lines.first_bought_at is null or bought_lines.first_bought_at > hits.event_at)))
),

signal_hits as (
    select
        account_id,
        rulebook_id,
        'activity' as source_type,
        activity_id as source_id,
        person_id,
        rule_id,
        description,
        event_at,
        case when cap_points is null or points <= 0 then points
            else greatest(0, least(points, cap_points - points_before_in_day))
        end as points,
        decay_profile_id
    from customer_hits
    union all
    select
        customer_people.account_id,
        rules.rulebook_id,
        'new_person',
        customer_people.person_id as source_id,
        customer_people.person_id,
        rules.rule_id,
        rules.description,
        person_accounts.person_created_at,
        rules.points,
        rules.decay_profile_id
    from customer_people
    inner join person_accounts
        on customer_people.person_id = person_accounts.person_id
    inner join rules
        on rules.rule_type = 'new_person'
    where person_accounts.person_created_at > customer_people.customer_since
        and person_accounts.person_created_at <= (select as_of from as_of)
),

signal_decay_terms as (
    {{ decay_profile_terms('signal_hits') }}
),

-- A purchase answers the signals before it: each signal term also ends at the account's next
-- purchase (strictly after the signal: at the same instant, a purchase sorts first).
signal_resets as (
    select account_id, event_at, min(reset_at) as reset_at
    from (
        select
            account_id,
            event_at,
            is_purchase,
            min(case when is_purchase = 1 then event_at end) over (
                partition by account_id order by event_at asc, is_purchase desc
                rows between current row and unbounded following
            ) as reset_at
        from (
            select distinct account_id, event_at, 0 as is_purchase from signal_decay_terms
            union all
            select account_id, purchased_at, 1 from {{ ref('int_account_purchases') }}
        ) as times
    ) as ordered
    where is_purchase = 0
    group by account_id, event_at
),

signal_terms as (
    select
        terms.account_id,
        terms.rulebook_id,
        terms.source_type,
        terms.source_id,
        terms.person_id,
        terms.rule_id,
        terms.description,
        terms.event_at,
        terms.points,
        terms.term_number,
        terms.term_kind,
        terms.points * terms.term_factor as term_points,
        terms.starts_at,
        case when signal_resets.reset_at is not null
            and (terms.ends_at is null or signal_resets.reset_at < terms.ends_at)
            then signal_resets.reset_at else terms.ends_at
        end as ends_at,
        terms.half_life_days,
        terms.lifetime_days,
        cast(null as integer) as purchase_number,
        cast(null as {{ type_double() }}) as cycle_months,
        cast(null as {{ dbt.type_string() }}) as cycle_source
    from signal_decay_terms as terms
    left join signal_resets
        on terms.account_id = signal_resets.account_id
        and terms.event_at = signal_resets.event_at
    where terms.points <> 0
),

final as (
    select
        {{ dbt.hash(dbt.concat(["account_id", "'|'", "rulebook_id", "'|'", "rule_id", "'|'",
            "coalesce(source_id, '')", "'|'", "cast(term_number as " ~ dbt.type_string() ~ ")"])) }}
            as repurchase_event_id,
        -- The id above reads the same subquery's columns unqualified.
        terms.*  -- noqa: RF03
    from (
        select * from cycle_terms
        union all
        select * from signal_terms
    ) as terms
)

select * from final
