# One image for the web server and the Celery workers.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY server ./server
COPY workers ./workers
COPY manage.py gunicorn.conf.py ./
RUN pip install . && python manage.py collectstatic --noinput
RUN useradd --system --uid 1000 seedboard
USER seedboard
EXPOSE 8000
ENV SEEDBOARD_BIND=0.0.0.0:8000
CMD ["gunicorn", "server.wsgi:application"]
