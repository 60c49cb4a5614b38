# syntax=docker/dockerfile:1
# The operator image: slim, non-root, dependencies pinned by requirements.lock, no build tools in the final stage.
ARG PYTHON_IMAGE=python:3.11.14-slim-bookworm

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/sre-operator
COPY requirements.lock ./
RUN /opt/sre-operator/bin/pip install --only-binary=:all: -r requirements.lock
COPY pyproject.toml README.md ./
COPY operator ./operator
COPY references ./references
RUN /opt/sre-operator/bin/pip install --no-deps . \
 && /opt/sre-operator/bin/pip uninstall -y pip \
 && find /opt/sre-operator -name '__pycache__' -prune -exec rm -rf {} +

FROM ${PYTHON_IMAGE}
LABEL org.opencontainers.image.title="sre-operator" \
      org.opencontainers.image.description="SRE policy as Kubernetes resources"
COPY --from=build /opt/sre-operator /opt/sre-operator
ENV PATH=/opt/sre-operator/bin:$PATH PYTHONUNBUFFERED=1 PYTHONDONTWRITEBYTECODE=1
USER 10001:10001
EXPOSE 8080 9443
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4).status != 200)"]
ENTRYPOINT ["sre-operator"]
CMD ["run"]
