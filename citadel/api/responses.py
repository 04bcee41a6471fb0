"""The error responses each operation documents, so the schema says what a client may get."""

from citadel.api.problems import Problem, ValidationProblem


def errors(*codes: int) -> dict:
    return {code: ValidationProblem if code == 422 else Problem for code in codes}
