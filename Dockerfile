# Production image: build wheels in one stage, run as a non-root user in a slim second stage.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY app ./app
RUN pip wheel --no-cache-dir --wheel-dir /wheels .

FROM python:3.11-slim
# The source tree is on PYTHONPATH so templates/, static/ and migrations/ sit beside the package.
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PYTHONPATH=/srv/onetouch ENV=production PORT=8000 HOST=0.0.0.0
RUN useradd --create-home --uid 10001 onetouch
WORKDIR /srv/onetouch
COPY --from=build /wheels /wheels
RUN pip install --no-cache-dir /wheels/* && rm -rf /wheels
COPY alembic.ini babel.cfg ./
COPY app ./app
COPY migrations ./migrations
COPY templates ./templates
COPY static ./static
COPY courses ./courses
RUN mkdir -p var/media && chown -R onetouch:onetouch var
USER onetouch
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request;urllib.request.urlopen('http://127.0.0.1:8000/healthz')"
CMD ["sh", "-c", "onetouch migrate && onetouch serve --workers ${WORKERS:-2}"]
