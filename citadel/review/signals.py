"""What review tells the apps above it. Review decides answers; an app built on answers (a report
whose items are answers) learns of each decision here, inside the decision's transaction, so its
own state changes commit or roll back with the decision."""

from django.dispatch import Signal

# Sent with `item` (the decided ReviewItem, its answer loaded) and `principal` (the reviewer).
review_decided = Signal()
