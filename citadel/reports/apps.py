from django.apps import AppConfig


class ReportsConfig(AppConfig):
    name = "citadel.reports"
    label = "reports"

    def ready(self) -> None:
        from citadel.reports.services import report_item_decided
        from citadel.review.signals import review_decided

        def decided(sender, *, item, principal, **_) -> None:
            report_item_decided(answer_id=item.answer_id, principal=principal)

        review_decided.connect(decided, dispatch_uid="citadel.reports.item_decided", weak=False)
