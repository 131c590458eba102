"""The foreign keys of the bulk-written tables that the database does not check
(docs/data-model.md): their writers hold the parent rows instead, and a merge still refuses
to delete a customer that something points at."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, transaction

from cordee.core.bulk import hold_parents
from cordee.customers.models import Customer, CustomerLink


def test_holding_a_parent_that_is_gone_fails_as_the_constraint_would(db):
    kept = Customer.objects.create(last_name="Présent")
    hold_parents(Customer, [kept.pk, kept.pk])  # present: nothing to say
    with pytest.raises(IntegrityError), transaction.atomic():
        hold_parents(Customer, [kept.pk, kept.pk + 1000])


def test_a_merge_does_not_delete_a_customer_a_link_still_points_at(destination):
    from cordee.customers.merging import _delete_customer

    customer = Customer.objects.create(last_name="Lié")
    CustomerLink.objects.create(
        customer=customer, partner=destination.hotel, first_seen=dt.datetime.now(dt.UTC)
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        _delete_customer(customer.pk)
    assert Customer.objects.filter(pk=customer.pk).exists()
