"""Events other parts of Cordée react to (outbound webhooks, per-customer aggregates...).

Senders keep to these keyword arguments, so that receivers need not know who sent them.
Each is sent after the transaction that made the change has committed
(``transaction.on_commit``), never from inside it: a receiver must not see a change that
could still be rolled back.
"""

from __future__ import annotations

from django.dispatch import Signal

# customer_ids: list[int] created or changed; partner_id: the partner whose record caused it
# (None for the hub's own changes); created: bool.
customers_changed = Signal()
# customer_ids: list[int] merged away; survivor_id: int. And its undo.
customers_merged = Signal()
customers_unmerged = Signal()
# customer_ids: list[int] erased (one, or a batch of the retention purge); partner_ids:
# dict[int, list[int]], for each of them the partners that knew the customer.
customers_erased = Signal()
# customer_id, purpose (slug), controller_id, status ("granted" | "refused" | "withdrawn").
consent_changed = Signal()
# customer_ids: list[int] whose activities changed (added, moved by a merge, erased);
# stale_marked: True when ``activities_written`` was sent for them inside the transaction.
activities_changed = Signal()
# The exception to the rule above, sent INSIDE the transaction that writes activities, with
# customer_ids: for work that must commit or roll back with the write (marking aggregates
# stale for a batched refresh), never for anything seen outside the database.
activities_written = Signal()
