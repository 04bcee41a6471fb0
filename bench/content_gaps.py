"""Content gaps on a labelled set of abstained questions: the time of the background refresh, and
how well its gaps match the topics the questions were generated from.

    CITADEL_DATA_DIR=/work/var-<you> HF_HUB_OFFLINE=1 .venv/bin/python bench/content_gaps.py \
        [--questions 20000] [--topics 100] [--embedder fake|minilm]

The set: `--topics` distinct workplace topics (each said three ways: "sabbatical", "sabbatical
leave", "a career break"), asked through 14 question templates with greetings and endings as
paraphrase variants, `--questions` in all, spread over the last 30 days, every one answered
insufficient_evidence, in an organization of its own (a fresh one each run), written straight to
the tables. Then the schedule's task (citadel.gaps.tasks.gaps_refresh_task) runs twice: first as
it does when the questions are new (it embeds them: with `--embedder minilm` all-MiniLM-L6-v2 on
the CPU, with `fake` the hashing embedder), then forced with nothing new (the vectors are stored:
grouping and writing only), which is what every later refresh costs.

Printed (JSON): the seconds of each refresh, the gaps found, and against the labels:
* purity: the share of questions in a gap that share its most common topic;
* coverage: the share of all questions that sit in a gap whose most common topic is their own;
* topics_found: topics that are the most common topic of at least one gap;
* gaps_per_topic: how many gaps a found topic is split over, on average.

--fit prints the same measures for a grid of thresholds on development questions instead (SQuAD
2.0 dev's 32 articles, each question labelled by its article, and the demo's golden and phrased
questions, labelled by their expected document), with no database: that is how
citadel.gaps.services.THRESHOLDS were chosen. Nothing is fitted on the generated set.
"""

import argparse
import gzip
import json
import os
import random
import sys
import time
from collections import Counter, defaultdict
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

TOPICS = [
    ("sabbatical", "sabbatical leave", "a career break"),
    ("parental leave", "maternity leave", "paternity leave"),
    ("office parking", "a car park space", "parking permit"),
    ("gym membership", "fitness allowance", "sports club subsidy"),
    ("bike to work scheme", "cycle scheme", "bicycle purchase plan"),
    ("stock options", "equity grants", "share options"),
    ("pension contributions", "retirement plan", "pension matching"),
    ("dental insurance", "dental cover", "dentist costs"),
    ("eye tests", "glasses allowance", "vision care"),
    ("remote work abroad", "working from another country", "a workation"),
    ("jury duty", "jury service", "court summons leave"),
    ("blood donation leave", "time off to donate blood", "blood donor time"),
    ("volunteering days", "charity leave", "community service days"),
    ("bereavement leave", "compassionate leave", "funeral leave"),
    ("moving day leave", "relocation day off", "house move leave"),
    ("relocation package", "moving allowance", "relocation support"),
    ("visa sponsorship", "work permit sponsorship", "immigration support"),
    ("tuition reimbursement", "education assistance", "course fees refund"),
    ("conference budget", "conference attendance", "event tickets"),
    ("language classes", "language lessons", "learning a language"),
    ("mentoring programme", "mentorship scheme", "finding a mentor"),
    ("internal job transfer", "moving teams", "internal mobility"),
    ("promotion criteria", "career levels", "getting promoted"),
    ("salary review", "pay rise process", "annual compensation review"),
    ("overtime pay", "extra hours compensation", "overtime rates"),
    ("night shift allowance", "night work premium", "shift pay"),
    ("on-call compensation", "on-call pay", "standby allowance"),
    ("company car", "lease car", "fleet vehicle"),
    ("mileage rate", "driving reimbursement", "car mileage claims"),
    ("mobile phone allowance", "work phone", "phone bill refund"),
    ("home office equipment", "desk and chair allowance", "home workstation budget"),
    ("internet allowance", "home broadband refund", "wifi costs at home"),
    ("laptop replacement", "new laptop request", "computer refresh"),
    ("second monitor", "extra screen", "external display"),
    ("software licence requests", "buying software", "new app licences"),
    ("password reset", "locked account", "forgotten password"),
    ("vpn access", "remote network access", "vpn connection"),
    ("printer setup", "printing at the office", "printer drivers"),
    ("meeting room booking", "reserving a room", "room reservations"),
    ("hot desking", "desk booking", "flexible seating"),
    ("office opening hours", "building hours", "when the office opens"),
    ("visitor badges", "guest access", "visitor registration"),
    ("lost access card", "replacement badge", "lost key card"),
    ("fire drills", "evacuation procedure", "fire safety"),
    ("first aid training", "first aiders", "first aid course"),
    ("ergonomic assessment", "workstation assessment", "posture check"),
    ("occupational health", "work health service", "health assessment"),
    ("mental health support", "counselling service", "employee assistance programme"),
    ("sick pay", "statutory sick pay", "paid sick days"),
    ("doctor's note", "medical certificate", "fit note"),
    ("annual leave carry over", "holiday rollover", "unused vacation days"),
    ("public holidays", "bank holidays", "national holidays"),
    ("buying extra holiday", "purchasing leave", "extra vacation days"),
    ("unpaid leave", "leave without pay", "unpaid time off"),
    ("part-time work", "reduced hours", "working part time"),
    ("compressed hours", "four-day week", "nine-day fortnight"),
    ("flexible start times", "flexitime", "core hours"),
    ("job sharing", "shared roles", "job share arrangement"),
    ("probation period", "probation review", "end of probation"),
    ("notice period", "resignation notice", "how much notice to give"),
    ("exit interview", "leaving interview", "offboarding interview"),
    ("references for leavers", "employment reference", "reference letter"),
    ("garden leave", "paid notice at home", "garden leave terms"),
    ("non-compete clause", "restrictive covenant", "non-compete agreement"),
    ("side projects", "outside employment", "second job"),
    ("conflict of interest", "declaring interests", "conflicts disclosure"),
    ("gifts from suppliers", "accepting gifts", "hospitality from vendors"),
    ("whistleblowing", "reporting misconduct", "speak up line"),
    ("harassment complaints", "raising a grievance", "bullying reports"),
    ("dress code", "what to wear to work", "office attire"),
    ("pets in the office", "bringing a dog to work", "dog-friendly office"),
    ("office snacks", "free fruit", "kitchen supplies"),
    ("canteen menu", "staff restaurant", "lunch options"),
    ("meal vouchers", "lunch allowance", "food vouchers"),
    ("team building budget", "team outing", "team events money"),
    ("holiday party", "end of year party", "christmas party"),
    ("employee referral bonus", "referral reward", "recommending a friend"),
    ("interview expenses", "candidate travel costs", "interview travel refund"),
    ("background checks", "pre-employment screening", "criminal record check"),
    ("right to work checks", "work eligibility", "passport check for hiring"),
    ("payslip access", "viewing my payslip", "pay statement"),
    ("payroll dates", "when we get paid", "pay day"),
    ("tax forms", "p60 form", "annual tax statement"),
    ("salary advance", "pay advance", "early salary payment"),
    ("expense card", "corporate credit card", "company card limit"),
    ("per diem rates", "daily allowance abroad", "travel per diem"),
    ("travel insurance", "business travel cover", "trip insurance"),
    ("frequent flyer miles", "air miles from business trips", "loyalty points"),
    ("rail travel class", "first class train", "train tickets"),
    ("taxi use", "ride hailing", "cab expenses"),
    ("hotel booking tool", "booking accommodation", "travel agent"),
    ("childcare vouchers", "nursery support", "childcare costs"),
    ("breastfeeding room", "lactation room", "nursing room"),
    ("religious holidays", "faith days off", "observing religious festivals"),
    ("prayer room", "quiet room", "multi-faith room"),
    ("disability adjustments", "reasonable adjustments", "accessibility support"),
    ("hearing loop", "assistive listening", "hearing aid support"),
    ("electric car charging", "ev chargers", "charging points"),
    ("recycling at the office", "waste sorting", "office recycling bins"),
    ("carbon offsetting", "travel emissions", "climate policy for trips"),
]
TEMPLATES = [
    "What is the policy on {t}?",
    "How does {t} work here?",
    "Who do I ask about {t}?",
    "Am I eligible for {t}?",
    "Where can I find the rules for {t}?",
    "Is there anything written about {t}?",
    "Can contractors get {t}?",
    "How do I apply for {t}?",
    "What changed recently about {t}?",
    "{t}: what are the rules?",
    "Do we have {t}?",
    "Tell me about {t}",
    "Does the company offer {t}?",
    "I need details on {t}",
]
OPENINGS = ["", "Quick question: ", "Hi, ", "Sorry if this is obvious, "]
ENDINGS = ["", " Thanks!", " I could not find it anywhere.", " Asking for my team."]


def generated(questions: int, topics: int, seed: int = 7) -> list[tuple[str, int]]:
    """`questions` (text, topic index) pairs over the first `topics` topics, shuffled."""
    rng = random.Random(seed)
    chosen = TOPICS[:topics]
    rows = []
    for i in range(questions):
        topic = i % len(chosen)
        t = rng.choice(chosen[topic])
        text = rng.choice(OPENINGS) + rng.choice(TEMPLATES).format(t=t) + rng.choice(ENDINGS)
        rows.append((text[0].upper() + text[1:], topic))
    rng.shuffle(rows)
    return rows


def scores(gap_of: dict, label_of: dict) -> dict:
    """Purity and coverage of the gaps (`gap_of`: item -> gap) against the labels (item -> label)."""
    members = defaultdict(list)
    for item, gap in gap_of.items():
        members[gap].append(label_of[item])
    in_gaps = sum(len(v) for v in members.values())
    majority = {gap: Counter(labels).most_common(1)[0] for gap, labels in members.items()}
    pure = sum(n for _, n in majority.values())
    found = Counter(label for label, _ in majority.values())
    return {
        "gaps": len(members),
        "purity": round(pure / max(in_gaps, 1), 3),
        "coverage": round(pure / max(len(label_of), 1), 3),
        "topics_found": len(found),
        "topics": len(set(label_of.values())),
        "gaps_per_topic": round(sum(found.values()) / max(len(found), 1), 2),
    }


def fit(args) -> None:
    import django

    django.setup()
    import numpy as np
    from django.conf import settings

    from citadel.gaps.clustering import cluster
    from citadel.providers.embeddings import get_embedder

    data = json.load(gzip.open(ROOT.parent / "shared/datasets/squad2-dev-32-articles.json.gz"))
    texts, labels = [], []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            for qa in paragraph["qas"]:
                texts.append(qa["question"])
                labels.append(f"squad:{article['title']}")
    for name in ("golden.jsonl", "phrased.jsonl"):
        for line in (ROOT / "demo" / name).read_text().splitlines():
            row = json.loads(line)
            if row.get("expected"):
                texts.append(row["question"])
                labels.append(f"demo:{row['expected'][0]}")
    started = time.monotonic()
    vectors = np.array(get_embedder().embed(texts), dtype=np.float32)
    embed_seconds = round(time.monotonic() - started, 1)
    label_of = dict(enumerate(labels))
    grid = []
    for threshold in args.thresholds:
        for merge in args.merge_thresholds:
            started = time.monotonic()
            groups = cluster(vectors, threshold=threshold, merge_threshold=merge)
            sizes = Counter(groups.tolist())
            gap_of = {i: g for i, g in enumerate(groups.tolist()) if sizes[g] >= args.min_questions}
            grid.append(
                {
                    "threshold": threshold,
                    "merge_threshold": merge,
                    **scores(gap_of, label_of),
                    "seconds": round(time.monotonic() - started, 2),
                }
            )
    print(
        json.dumps(
            {
                "embedder": settings.CITADEL["EMBEDDER"],
                "questions": len(texts),
                "embed_seconds": embed_seconds,
                "grid": grid,
            },
            indent=1,
        )
    )


def measure(args) -> None:
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    from citadel.accounts.models import Organization
    from citadel.accounts.services import organization_create
    from citadel.answers.models import Answer, Question
    from citadel.gaps.models import GapMember, GapRefresh
    from citadel.gaps.tasks import gaps_refresh_task

    slug = "bench-gaps"
    Organization.objects.filter(slug=slug).delete()
    organization = organization_create(slug=slug, name="Bench gaps")
    asker, _ = get_user_model().objects.get_or_create(username="bench-gaps-asker")
    rows = generated(args.questions, args.topics)
    now = timezone.now()
    questions = Question.objects.bulk_create(
        [Question(organization=organization, asker=asker, text=text) for text, _ in rows], batch_size=5000
    )
    for i, question in enumerate(questions):
        question.created_at = now - timedelta(minutes=(i * 7919) % (30 * 24 * 60))
    Question.objects.bulk_update(questions, ["created_at"], batch_size=5000)
    Answer.objects.bulk_create(
        [
            Answer(question=q, organization=organization, status="insufficient_evidence", provider="extractive")
            for q in questions
        ],
        batch_size=5000,
    )
    label_of = {q.pk: topic for q, (_, topic) in zip(questions, rows, strict=True)}

    def refresh() -> float:
        started = time.monotonic()
        gaps_refresh_task.call()
        return round(time.monotonic() - started, 2)

    first = refresh()
    GapRefresh.objects.filter(organization=organization).delete()  # nothing new: as a forced refresh
    again = refresh()
    gap_of = dict(GapMember.objects.filter(gap__organization=organization).values_list("question_id", "gap_id"))
    print(
        json.dumps(
            {
                "embedder": settings.CITADEL["EMBEDDER"],
                "questions": len(rows),
                "topics": args.topics,
                "first_refresh_seconds": first,
                "refresh_seconds": again,
                **scores(gap_of, label_of),
            },
            indent=1,
        )
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--questions", type=int, default=20_000)
    parser.add_argument("--topics", type=int, default=len(TOPICS), choices=range(2, len(TOPICS) + 1), metavar="N")
    parser.add_argument("--embedder", choices=["fake", "minilm"], default="minilm")
    parser.add_argument("--fit", action="store_true", help="Print the threshold grid on development questions.")
    parser.add_argument("--thresholds", type=float, nargs="+", default=[0.45, 0.5, 0.55, 0.6, 0.65])
    parser.add_argument("--merge-thresholds", type=float, nargs="+", default=[0.3, 0.35, 0.4, 0.45, 0.5])
    parser.add_argument("--min-questions", type=int, default=3)
    args = parser.parse_args()
    os.environ["CITADEL_EMBEDDER"] = "fake" if args.embedder == "fake" else "local"
    fit(args) if args.fit else measure(args)


if __name__ == "__main__":
    main()
