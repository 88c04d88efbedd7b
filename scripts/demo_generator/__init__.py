"""Generate deterministic demo data for the customer-health raw landing zone.

Usage::

    python scripts/generate_demo_data.py --accounts 300 --days 365 --out data/raw \\
        --format parquet --seed 42 --end-date 2026-10-31 --dirty-fraction 0.01

Writes six tables as ``<out>/<table>.parquet`` (or ``.csv``) plus ``<out>/_manifest.json``.
The same arguments always give byte-identical files: every random draw comes from a numpy
generator seeded with ``--seed`` and a fixed stream number, and no wall-clock time is used.

Raw contract
------------
Every column is text (Parquet ``string``; CSV with a header row, every non-null value quoted);
a null is a real null (null in Parquet, an unquoted empty field in CSV), never an empty string.
Columns ending in ``_at`` are UTC timestamps ``YYYY-MM-DD HH:MM:SS``, ``renewal_date`` is a date
``YYYY-MM-DD``, booleans are ``true``/``false``, ``amount`` has two decimals.

- accounts(account_id, account_name, plan, seats, created_at, renewal_date, churned_at, csm_owner)
- users(user_id, account_id, email, created_at, deactivated_at)
- events(event_id, account_id, user_id, event_name, occurred_at)
- invoices(invoice_id, account_id, issued_at, due_at, paid_at, amount, currency, status)
- tickets(ticket_id, account_id, user_id, opened_at, resolved_at, priority, csat)
- csm_ratings(account_id, rated_at, rating, is_override, reason, expires_at);
  grain (account_id, rated_at)

Keys: ``acc_000001``, ``usr_0000001``, ``inv_00000001``, ``tkt_0000001`` (more digits for
large data sets), event_id an integer from 1. The data window is the ``--days`` days ending on
``--end-date`` (inclusive): events, invoices, tickets and ratings fall inside it; accounts and
users may be older. Clean events average about 1,000 per account per 365 days.

Content
-------
Plans starter and growth (SMB) and business and enterprise (enterprise segment); the starter
plan has no ``api_call`` feature. Accounts are of five archetypes (counts in the manifest's
``ground_truth``): ``stable``; ``growing`` (usage, users and invoice amounts rise over the
window); ``low_engagement`` (few users, little usage, slower payers); ``churned`` (churned_at in
the window) and ``churning_after_end`` (churned_at null, but the churn date lies after the end
date). Both churning archetypes decline for 60-120 days before churn: fewer active users and
events, shallower feature use, late or unpaid invoices, more and more urgent tickets with lower
CSAT, falling CSM ratings. Nothing happens on or after an account's churn date; the users of a
churned account are deactivated at churned_at. About 12% of accounts are younger than 90 days.

Dirty rows
----------
With ``--dirty-fraction f`` (default 0.01, 0 for none) each table gets about ``f`` times its
clean row count of extra dirty rows, split evenly over the table's kinds, at least 1 per kind
(at least 3 when the table has 1,000 clean rows or more). Dirty rows are modified copies of
random clean rows, slipped in at random places (for events: appended at the end of the file);
clean rows are never changed or removed, and do not depend on ``f`` (a run with ``f`` = 0 writes
exactly the clean rows). Each dirty row has exactly one defect. Every kind except the two
duplicate kinds and ``null_key`` gets a fresh key, numbered after the clean ones and unused by
any other row (csm_ratings: rated_at moved a few hours earlier). Orphan and unknown ids count
down from the top of the id range (``acc_999999``, ``usr_9999999``). A dirty row keeps the
source row's other columns, so an orphan event's or ticket's user_id belongs to another account:
check orphans before user/account consistency. The kinds:

- ``exact_duplicate`` (all tables): a copy identical in every column.
- ``conflicting_duplicate`` (all tables): same key, one other column differs with a valid value:
  accounts.seats, users.email, events.event_name, invoices.amount, tickets.priority,
  csm_ratings.rating. Nothing marks which of the two rows is the original.
- ``null_key`` (all tables): the key is null (csm_ratings: account_id).
- ``orphan_account`` (all but accounts): account_id is an id absent from accounts.
- ``unknown_user`` (events): user_id is an id absent from users.
- ``user_account_mismatch`` (events): user_id is a real user of another account.
- ``unparseable_timestamp`` (all tables): the main timestamp (accounts.created_at,
  users.created_at, events.occurred_at, invoices.issued_at, tickets.opened_at,
  csm_ratings.rated_at) is text such as 'not a date' or '2026-13-45 10:00:00'.
- ``future_timestamp`` (all tables): that timestamp is in the year 2099 (dependent columns are
  kept consistent: invoices due 30 days later and open, tickets unresolved, no churn, etc.).
- ``unknown_enum``: accounts.plan 'platinum', events.event_name 'legacy_sync',
  invoices.status 'refunded', tickets.priority 'critical'.
- ``negative_seats`` (accounts), ``negative_amount`` and ``non_numeric_amount`` (invoices:
  '12,50', 'abc', ...), ``csat_out_of_range`` (tickets: 0 or 7), ``rating_out_of_range``
  (csm_ratings: -5 or 150), ``resolved_before_opened`` (tickets).

Manifest
--------
``_manifest.json`` holds the arguments (not the output path), the window and, per table, the
file name, ``rows`` (all rows written), ``clean_rows`` and ``dirty`` (rows per kind), so that
``rows == clean_rows + sum(dirty.values())``; and ``ground_truth``: accounts per archetype and
the ids of the accounts that churn after the end date.
"""
