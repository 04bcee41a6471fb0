from citadel.answers.services import answer_question
from tests.factories import make_document


def test_smoke(world):
    org = world.org("acme")
    org.review_policy = "none"; org.save()
    p = world.principal("ann", org)
    make_document(org, "refunds", ["Refunds are paid within 14 days of the return arriving at our warehouse. Shipping costs are not refunded.", "Our office is closed on public holidays."])
    a = answer_question(principal=p, text="How long do refunds take?")
    print(a.status, a.text, a.flags, a.notice, list(a.citations.values("n", "quote")))
    print(a.receipt.data)
    b = answer_question(principal=p, text="What is the capital of Mars?")
    print(b.status, b.text, b.flags, b.notice)
