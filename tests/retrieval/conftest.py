import pytest

from tests.factories import make_document


@pytest.fixture
def acme(world):
    """Acme with a whole-org handbook, a Finance-only payroll note and a memo only Ann may read;
    Globex next door holds a similar document nobody at Acme may see."""
    org = world.org("acme")
    ann = world.user("ann", org, teams=["Finance"])
    world.user("bob", org)
    world.user("ada", org, role="admin")
    finance = org.teams.get(name="Finance")
    docs = {
        "handbook": make_document(org, "handbook", ["Refunds are paid within fourteen days.", "Holidays: 25 days."]),
        "payroll": make_document(org, "payroll", ["Payroll refunds for overtime are paid monthly."], grants=[finance]),
        "memo": make_document(org, "memo", ["Ann's refunds memo: bonus refunds are confidential."], grants=[ann]),
        "draft": make_document(org, "draft", ["Draft refunds text nobody was granted."], grants=[]),
    }
    globex = world.org("globex")
    world.user("gus", globex)
    docs["globex"] = make_document(globex, "globex-refunds", ["Globex refunds are paid within fourteen days."])
    return docs
