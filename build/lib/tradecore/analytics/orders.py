"""The order log: every submission with what became of it, one row per submitted order.

``status`` is the order's final state:

- ``rejected``: the broker refused the submission (``reason``/``message`` say why);
- ``filled``: fills add up to the order's (last accepted) quantity;
- ``cancelled`` / ``expired``: ended by a cancellation or an expiry -- possibly after part of
  it filled (``filled_quantity`` > 0); ``reason`` is ``CANCELLED`` or ``EXPIRED`` and
  ``message`` tells an expiry that was reached from one at the end of the data;
- ``partially_filled`` / ``open``: accepted and still working (a run still recording, or a
  broker that leaves orders open); ``pending``: submitted, not yet answered.

Prices and quantity are as submitted; ``final_*`` are the values after the accepted
modifications. ``fill_price`` is the quantity-weighted average of the order's fills,
``fill_ts_ns`` the time of its last fill. ``closed_ts_ns`` is when it stopped working (filled,
cancelled, expired or rejected).

A submission that reuses an order id is rejected by the broker without touching the order
that owns the id; such duplicates get their own row with that rejection.
"""

from __future__ import annotations

import pyarrow as pa

from tradecore.analytics.connection import query_arrow

_SQL = """
WITH sub AS (
    SELECT *, row_number() OVER (PARTITION BY order_id ORDER BY rowid) AS attempt
    FROM order_submissions
),
acc AS (
    SELECT order_id, min(ts_event_ns) AS accepted_ts_ns FROM orders_accepted GROUP BY order_id
),
rej AS (
    SELECT *, row_number() OVER (PARTITION BY order_id ORDER BY rowid) AS nth
    FROM orders_rejected
),
mods AS (
    SELECT order_id, count(*) AS modifications,
           arg_max(quantity, rowid) AS final_quantity,
           arg_max(limit_price, rowid) AS final_limit_price,
           arg_max(stop_price, rowid) AS final_stop_price,
           bool_or(limit_price IS NOT NULL) AS has_limit,
           bool_or(stop_price IS NOT NULL) AS has_stop
    FROM modifications_accepted GROUP BY order_id
),
mods_rej AS (
    SELECT order_id, count(*) AS modifications_rejected,
           arg_max(reason || ': ' || message, rowid) AS last_modification_rejection
    FROM modifications_rejected GROUP BY order_id
),
cancel_req AS (
    SELECT order_id, min(ts_event_ns) AS cancel_requested_ts_ns
    FROM order_cancellations GROUP BY order_id
),
cancel_rej AS (
    SELECT order_id, count(*) AS cancellations_rejected FROM cancellations_rejected
    GROUP BY order_id
),
cancelled AS (
    SELECT order_id, min(ts_event_ns) AS cancelled_ts_ns FROM cancellations_accepted
    GROUP BY order_id
),
expired AS (
    SELECT order_id, min(ts_event_ns) AS expired_ts_ns FROM expirations GROUP BY order_id
),
filled AS (
    SELECT associated_order_id AS order_id, count(*) AS fills,
           sum(quantity_filled) AS filled_quantity,
           sum(quantity_filled * fill_price) / nullif(sum(quantity_filled), 0) AS fill_price,
           max(ts_event_ns) AS fill_ts_ns, sum(commission) AS commission
    FROM fills GROUP BY associated_order_id
),
joined AS (
    SELECT s.*,
           -- duplicates of an accepted order id take its 1st, 2nd ... rejection
           CASE WHEN s.attempt = 1 THEN acc.accepted_ts_ns END AS accepted_ts_ns,
           r.ts_event_ns AS rejected_ts_ns, r.reason AS rejection_reason,
           r.message AS rejection_message
    FROM sub AS s
    LEFT JOIN acc ON acc.order_id = s.order_id
    LEFT JOIN rej AS r ON r.order_id = s.order_id
        AND r.nth = s.attempt - CASE WHEN acc.order_id IS NULL THEN 0 ELSE 1 END
),
owner AS (
    SELECT j.*, j.attempt = 1 AND j.rejected_ts_ns IS NULL AS owns
    FROM joined AS j
)
SELECT o.order_id, o.strategy, o.symbol,
       o.ts_event_ns AS submitted_ts_ns,
       make_timestamp_ns(o.ts_event_ns) AS submitted_time,
       o.order_type, o.side, o.quantity, o.limit_price, o.stop_price, o.expiry_ns,
       o.action, o.signal,
       CASE
           WHEN o.rejected_ts_ns IS NOT NULL THEN 'rejected'
           WHEN NOT o.owns OR o.accepted_ts_ns IS NULL THEN 'pending'
           WHEN coalesce(f.filled_quantity, 0)
                >= coalesce(m.final_quantity, o.quantity) - 1e-9 THEN 'filled'
           WHEN c.cancelled_ts_ns IS NOT NULL THEN 'cancelled'
           WHEN e.expired_ts_ns IS NOT NULL THEN 'expired'
           WHEN coalesce(f.filled_quantity, 0) > 0 THEN 'partially_filled'
           ELSE 'open'
       END AS status,
       o.accepted_ts_ns,
       CASE WHEN o.owns THEN coalesce(m.final_quantity, o.quantity) ELSE o.quantity END
           AS final_quantity,
       CASE WHEN o.owns AND m.has_limit THEN m.final_limit_price ELSE o.limit_price END
           AS final_limit_price,
       CASE WHEN o.owns AND m.has_stop THEN m.final_stop_price ELSE o.stop_price END
           AS final_stop_price,
       CASE WHEN o.owns THEN coalesce(m.modifications, 0) ELSE 0 END AS modifications,
       CASE WHEN o.owns THEN coalesce(mr.modifications_rejected, 0) ELSE 0 END
           AS modifications_rejected,
       CASE WHEN o.owns THEN cr.cancel_requested_ts_ns END AS cancel_requested_ts_ns,
       CASE WHEN o.owns THEN coalesce(cj.cancellations_rejected, 0) ELSE 0 END
           AS cancellations_rejected,
       CASE WHEN o.owns THEN coalesce(f.fills, 0) ELSE 0 END AS fills,
       CASE WHEN o.owns THEN coalesce(f.filled_quantity, 0) ELSE 0 END AS filled_quantity,
       CASE WHEN o.owns THEN f.fill_price END AS fill_price,
       CASE WHEN o.owns THEN f.fill_ts_ns END AS fill_ts_ns,
       CASE WHEN o.owns THEN coalesce(f.commission, 0) ELSE 0 END AS commission,
       CASE
           WHEN o.rejected_ts_ns IS NOT NULL THEN o.rejected_ts_ns
           WHEN NOT o.owns THEN NULL
           WHEN coalesce(f.filled_quantity, 0)
                >= coalesce(m.final_quantity, o.quantity) - 1e-9 THEN f.fill_ts_ns
           ELSE coalesce(c.cancelled_ts_ns, e.expired_ts_ns)
       END AS closed_ts_ns,
       CASE
           WHEN o.rejected_ts_ns IS NOT NULL THEN o.rejection_reason
           WHEN NOT o.owns THEN NULL
           WHEN coalesce(f.filled_quantity, 0)
                >= coalesce(m.final_quantity, o.quantity) - 1e-9 THEN NULL
           WHEN c.cancelled_ts_ns IS NOT NULL THEN 'CANCELLED'
           WHEN e.expired_ts_ns IS NOT NULL THEN 'EXPIRED'
       END AS reason,
       CASE
           WHEN o.rejected_ts_ns IS NOT NULL THEN o.rejection_message
           WHEN NOT o.owns THEN NULL
           WHEN coalesce(f.filled_quantity, 0)
                >= coalesce(m.final_quantity, o.quantity) - 1e-9 THEN NULL
           WHEN c.cancelled_ts_ns IS NOT NULL THEN 'Cancelled at the strategy''s request.'
           WHEN e.expired_ts_ns IS NOT NULL AND o.expiry_ns IS NOT NULL
                AND e.expired_ts_ns >= o.expiry_ns THEN 'Its expiry time was reached.'
           WHEN e.expired_ts_ns IS NOT NULL THEN 'Still open when the data ended.'
       END AS message,
       CASE WHEN o.owns THEN mr.last_modification_rejection END AS last_modification_rejection
FROM owner AS o
LEFT JOIN mods AS m ON m.order_id = o.order_id
LEFT JOIN mods_rej AS mr ON mr.order_id = o.order_id
LEFT JOIN cancel_req AS cr ON cr.order_id = o.order_id
LEFT JOIN cancel_rej AS cj ON cj.order_id = o.order_id
LEFT JOIN cancelled AS c ON c.order_id = o.order_id
LEFT JOIN expired AS e ON e.order_id = o.order_id
LEFT JOIN filled AS f ON f.order_id = o.order_id
ORDER BY o.ts_event_ns, o.rowid
"""

TABLES = ("order_submissions", "orders_accepted", "orders_rejected", "modifications_accepted",
          "modifications_rejected", "order_cancellations", "cancellations_rejected",
          "cancellations_accepted", "expirations", "fills", "order_modifications")


def assemble(tables: dict[str, pa.Table]) -> pa.Table:
    """The order log from the run's raw event tables (each with its ``rowid``)."""
    return query_arrow(_SQL, tables={name: tables[name] for name in TABLES})
