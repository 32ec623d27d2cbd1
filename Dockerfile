FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1

WORKDIR /app
RUN useradd --create-home --uid 10001 backstrong

# The project is installed in place: `backstrong migrate` reads alembic/ and
# `backstrong seed` reads seed_data/ from beside the api package.
COPY pyproject.toml README.md alembic.ini ./
COPY api ./api
COPY alembic ./alembic
COPY seed_data ./seed_data
RUN pip install -e .

USER backstrong
EXPOSE 8000
CMD ["sh", "-c", "backstrong migrate && backstrong seed && backstrong serve --host 0.0.0.0 --port 8000"]
