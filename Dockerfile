# faultproof serve in a container: every provider's mock on port 8080.
#
#   docker build -t faultproof .
#   docker run --rm -p 127.0.0.1:8080:8080 -e FAULTPROOF_CONTROL_TOKEN=change-me faultproof
#
# Inside the container the server listens on all interfaces (a published port reaches it only
# so), which exposes the control plane: it therefore refuses to start without a control token
# (FAULTPROOF_CONTROL_TOKEN), and every control-plane call must present it. Set
# FAULTPROOF_ALLOW_HOST to the host names clients use when they are not localhost or 127.0.0.1.
# Every serve option is an environment variable FAULTPROOF_<OPTION> (FAULTPROOF_STATE,
# FAULTPROOF_PROVIDERS, FAULTPROOF_SET, ...).
#
# BASE: any image with Python 3.10 or newer; PIP_ARGS: extra pip arguments, for an offline
# build from wheels in the build context (pip wheel . -w wheels, then
# --build-arg PIP_ARGS="--no-index --find-links /src/wheels").
ARG BASE=python:3.12-slim
FROM ${BASE}

ARG PIP_ARGS=""
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_DISABLE_PIP_VERSION_CHECK=1 \
    FAULTPROOF_HOST=0.0.0.0 FAULTPROOF_PORT=8080
COPY . /src
RUN python3 -m venv /opt/faultproof \
 && /opt/faultproof/bin/pip install --no-cache-dir $PIP_ARGS /src \
 && rm -rf /src \
 && useradd --system --no-create-home faultproof
ENV PATH=/opt/faultproof/bin:$PATH
USER faultproof
EXPOSE 8080
# Health through the control plane, with the token it asks of every caller.
HEALTHCHECK --interval=10s --timeout=3s CMD ["python3", "-c", "import os, urllib.request as u; u.urlopen(u.Request('http://127.0.0.1:8080/__faultproof/health', headers={'Authorization': 'Bearer ' + os.environ.get('FAULTPROOF_CONTROL_TOKEN', '')}), timeout=2)"]
ENTRYPOINT ["faultproof", "serve"]
