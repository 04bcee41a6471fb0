from django.apps import AppConfig


class ReviewConfig(AppConfig):
    name = "citadel.review"
    label = "review"

    def ready(self) -> None:
        from citadel.answers.gate import review_gate_install
        from citadel.review.services import review_gate

        def gate(*, answer) -> int | None:
            item = review_gate(answer=answer)
            return item.pk if item is not None else None

        review_gate_install(gate)
