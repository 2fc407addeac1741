"""The Python snippet of README.md, kept in step with it."""
import crmkit


def test_readme_python_snippet(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    store = crmkit.Store("shop.crmkit", currency="USD")

    c = store.create_customer(crmkit.Customer(
        external_id="c-1",
        name="Ann Lee",
        contacts=[crmkit.ContactPoint(
            kind=crmkit.ContactKind.email,
            value="ann@example.com")]))

    store.append_event(crmkit.Event(
        customer=c.id,
        at="2024-05-01T10:00:00Z",
        idempotency_key="order-1001",
        payload=crmkit.Purchase(
            order_id="1001",
            amount=crmkit.Money("19.99", "USD"))))

    s = store.summary()
    assert s.revenue == crmkit.Money("19.99", "USD")
    assert repr(s.revenue) == "Money('19.99', 'USD')"
    assert s.customers == 1 and s.purchases == 1
    store.close()
    assert (tmp_path / "shop.crmkit").exists()
