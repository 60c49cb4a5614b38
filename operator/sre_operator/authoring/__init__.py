"""``sre-operator init``: a short conversation that writes a plan, a policy and a gate. The questions, how each
answer is checked, and the documents the answers make are pure; the terminal and Prometheus are the CLI's."""

from sre_operator.authoring.interview import Answer, Question, documents, questions

__all__ = ["Answer", "Question", "documents", "questions"]
