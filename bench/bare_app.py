"""The baseline for the intake benchmark: a FastAPI endpoint that answers 202 and stores nothing."""

from __future__ import annotations

import socket

import uvicorn
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

app = FastAPI()


@app.post("/hooks/events")
async def hook(request: Request) -> JSONResponse:
    await request.body()
    return JSONResponse({"id": "-"}, status_code=202)


def main() -> None:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    sock.listen(1024)
    print(f"bare app listening on http://127.0.0.1:{sock.getsockname()[1]}", flush=True)
    config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off")
    uvicorn.Server(config).run(sockets=[sock])


if __name__ == "__main__":
    main()
