"""A group's most telling words: class-based TF-IDF over the groups' questions (c-TF-IDF).

A word scores by the share of the group's questions holding it, times how rare it is across all
the groups (log(1 + mean words per group / its frequency over every group)), so words every gap
shares ("policy", "company") lose to the ones that set this gap apart ("sabbatical")."""

import math
import re
from collections import Counter

WORD = re.compile(r"[a-z][a-z'-]*[a-z]")
# English function words and the words every question is made of ("how", "can", "allowed").
STOPWORDS = frozenset(
    """a about above after again against all allowed also am an and any are aren't as ask at be because been
    before being below between both but by can can't cannot could couldn't did didn't do does doesn't doing don't
    down during each else ever few for from further get gets getting give go going got had hadn't has hasn't
    have haven't having he her here hers herself him himself his how i i'm if in into is isn't it it's its
    itself just know let like many may me might more most much must my myself need needs no nor not now of off
    on once one only or other our ours ourselves out over own please same shall she should shouldn't so some
    still such take tell than that that's the their theirs them themselves then there there's these they this those
    through to too under until up us use used very want was wasn't way we were weren't what what's when
    where which while who whom why will with would wouldn't you your yours yourself yourselves""".split()
)


def words(text: str) -> list[str]:
    return [w for w in WORD.findall(text.lower().replace("\u2019", "'")) if w not in STOPWORDS and len(w) > 2]


def telling_words(groups: list[list[str]], *, top: int = 3) -> list[list[str]]:
    """For each group of texts, its `top` most telling words, best first. Plurals are counted with
    their singular when both occur ("sabbaticals" with "sabbatical")."""
    bags = [[set(words(text)) for text in texts] for texts in groups]
    vocabulary = {w for bag in bags for question in bag for w in question}

    def folded(word: str) -> str:
        return word[:-1] if word.endswith("s") and word[:-1] in vocabulary else word

    group_counts = [Counter(folded(w) for question in bag for w in question) for bag in bags]
    overall: Counter = Counter()
    for counts in group_counts:
        overall.update(counts)
    mean_words = sum(overall.values()) / max(len(group_counts), 1)
    result = []
    for bag, counts in zip(bags, group_counts, strict=True):
        size = max(len(bag), 1)
        scored = sorted(
            counts.items(),
            key=lambda item: (-(item[1] / size) * math.log(1 + mean_words / overall[item[0]]), item[0]),
        )
        result.append([w for w, n in scored[:top] if n > 1 or size == 1])
    return result
