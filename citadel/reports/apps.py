from django.apps import AppConfig
from django.urls import reverse


class ReportsConfig(AppConfig):
    name = "citadel.reports"
    label = "reports"

    def ready(self) -> None:
        from citadel.jobs.registry import RunKind, RunNotice, run_kind_register
        from citadel.notifications.models import NotificationKind
        from citadel.reports.models import Report
        from citadel.reports.services import EXECUTE_TASK, report_item_decided, report_reset
        from citadel.review.signals import review_decided

        def decided(sender, *, item, principal, **_) -> None:
            report_item_decided(answer_id=item.answer_id, principal=principal)

        review_decided.connect(decided, dispatch_uid="citadel.reports.item_decided", weak=False)
        run_kind_register(
            RunKind(
                name="reports",
                model=Report,
                task=EXECUTE_TASK,
                reset=report_reset,
                notice=RunNotice(
                    kinds={
                        "needs_review": NotificationKind.REPORT_READY,
                        "published": NotificationKind.REPORT_PUBLISHED,
                    },
                    states="report",
                    name=lambda report: f"Report “{report.title}”",
                    url=lambda report: reverse("reports:detail", args=[report.pk]),
                ),
            )
        )
