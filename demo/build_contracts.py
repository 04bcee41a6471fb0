"""Write the demo's vendor contracts (demo/contracts/*.md) and the values each holds
(demo/contracts/values.jsonl), for the "contract terms" extraction schema and its accuracy bench.

Each contract states six fields (vendor, effective date, annual fee, notice period, automatic
renewal, late-payment interest) in one of several phrasings, beside distractors of the same types
(a one-off setup fee, a payment term in days, the signing date, a liability cap in percent of the
fees). Contracts 1-10 are development data (thresholds are fitted on them); 11-20 are held out.
Phrasings are drawn per contract from one seeded generator, so both halves mix them.

    .venv/bin/python demo/build_contracts.py [--count 20] [--out demo/contracts] [--seed 7]
"""

import argparse
import json
import random
from datetime import date, timedelta
from pathlib import Path

VENDORS = [
    "Northwind Traders",
    "Contoso Cleaning",
    "Fabrikam Logistics",
    "Tailspin Printing",
    "Litware Security",
    "Proseware Analytics",
    "Adatum Catering",
    "Wingtip Furniture",
    "Lucerne Legal",
    "Humongous Insurance",
    "Coho Vineyard",
    "Alpine Ski House",
    "Blue Yonder Travel",
    "Fourth Coffee",
    "Margie Couriers",
    "Trey Research",
    "Woodgrove Payroll",
    "Wide World Importers",
    "Graphic Design Institute",
    "Relecloud Hosting",
]
SERVICES = [
    "office cleaning",
    "courier services",
    "printing of marketing material",
    "security guarding",
    "data analytics support",
    "catering for events",
    "furniture leasing",
    "legal research",
    "insurance brokerage",
    "coffee supply",
    "payroll processing",
    "cloud hosting",
]
MONTHS = "January February March April May June July August September October November December".split()
NUMBER_WORDS = {30: "thirty", 45: "forty-five", 60: "sixty", 90: "ninety", 14: "fourteen"}


def long_date(d: date) -> str:
    return f"{d.day} {MONTHS[d.month - 1]} {d.year}"


def us_date(d: date) -> str:
    return f"{MONTHS[d.month - 1]} {d.day}, {d.year}"


def contract(n: int, rng: random.Random) -> tuple[str, dict]:
    vendor = VENDORS[(n - 1) % len(VENDORS)]
    service = rng.choice(SERVICES)
    effective = date(2025, 1, 1) + timedelta(days=rng.randrange(0, 700))
    signed = effective - timedelta(days=rng.randrange(5, 40))
    fee = rng.choice([12_000, 18_500, 24_000, 36_000, 48_000, 52_750, 64_000, 90_000])
    setup = rng.choice([500, 750, 1_200, 2_500])
    currency = rng.choice(["USD", "EUR", "GBP"])
    symbol = {"USD": "$", "EUR": "€", "GBP": "£"}[currency]
    notice = rng.choice([30, 45, 60, 90])
    payment_days = rng.choice([14, 30, 45])
    renews = rng.random() < 0.6
    interest = rng.choice([1, 1.5, 2, 3])
    cap = rng.choice([100, 150, 200])

    fee_text = rng.choice(
        [
            f"The annual fee is {symbol}{fee:,} per year, invoiced quarterly in advance.",
            f"Customer shall pay an annual fee of {currency} {fee:,} for the services.",
            f"The yearly service charge (the annual fee) amounts to {fee:,} {currency}.",
        ]
    )
    setup_text = f"A one-off setup fee of {symbol}{setup:,} is due on signature."
    notice_text = rng.choice(
        [
            f"Either party may terminate this agreement by giving {notice} days' written notice.",
            f"Termination requires a notice period of {NUMBER_WORDS.get(notice, notice)} ({notice}) days in writing.",
            f"The notice period for termination is {notice} days.",
        ]
    )
    payment_text = f"Invoices are payable within {payment_days} days of receipt."
    effective_text = rng.choice(
        [
            f"This agreement takes effect on {long_date(effective)}.",
            f"The effective date of this agreement is {us_date(effective)}.",
            f"Services start on the effective date, {effective.isoformat()}.",
        ]
    )
    signed_text = f"Signed by both parties on {long_date(signed)}."
    renewal_text = (
        rng.choice(
            [
                "The agreement renews automatically for successive one-year terms.",
                "At the end of each term the agreement is automatically renewed for another year.",
            ]
        )
        if renews
        else rng.choice(
            [
                "The agreement does not renew automatically; a renewal requires a new order form.",
                "There is no automatic renewal: the agreement ends at the end of its term.",
            ]
        )
    )
    interest_text = rng.choice(
        [
            f"Late payments bear interest at {interest}% per month.",
            f"Interest on late payment accrues at {interest} percent per month.",
        ]
    )
    cap_text = f"Each party's liability is capped at {cap}% of the fees paid in the preceding twelve months."
    vendor_text = rng.choice(
        [
            f"This Services Agreement is made between Acme Corporation (the Customer) and {vendor} (the Vendor).",
            f"The Vendor, {vendor}, provides {service} to Acme Corporation under this agreement.",
        ]
    )
    text = f"""# Services Agreement: {service.capitalize()}

## Parties

{vendor_text} {signed_text}

## Services and term

The Vendor provides {service} at the Customer's offices. {effective_text} {renewal_text}

## Fees and payment

{fee_text} {setup_text} {payment_text} {interest_text}

## Termination and liability

{notice_text} {cap_text}
"""
    values = {
        "vendor": vendor,
        "effective_date": effective.isoformat(),
        "annual_fee": f"{fee} {currency}",
        "notice_period": f"{notice} days",
        "auto_renewal": "yes" if renews else "no",
        "late_interest": f"{interest:g}%",
    }
    return text, values


def build(count: int, out: Path, seed: int) -> list[dict]:
    rng = random.Random(seed)
    out.mkdir(parents=True, exist_ok=True)
    rows = []
    for n in range(1, count + 1):
        text, values = contract(n, rng)
        external_id = f"contract-{n:03d}"
        (out / f"{external_id}.md").write_text(text, encoding="utf-8")
        rows.append({"document": external_id, "split": "dev" if n <= count // 2 else "held-out", "values": values})
    (out / "values.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--out", default=str(Path(__file__).resolve().parent / "contracts"))
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    rows = build(args.count, Path(args.out), args.seed)
    print(f"{len(rows)} contracts in {args.out}")


if __name__ == "__main__":
    main()
