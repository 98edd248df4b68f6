"""A real SMTP server for CI (aiosmtpd): every message it receives is written, as received, to
a file in the directory given, so tests read exactly what a mail server got.

    python smtp_sink.py <host> <port> <directory>
"""
import asyncio
import pathlib
import sys
import uuid

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self, directory: pathlib.Path):
        self.directory = directory

    async def handle_DATA(self, server, session, envelope):
        name = self.directory / f"{uuid.uuid4().hex}.eml"
        tmp = name.with_suffix(".tmp")
        tmp.write_bytes(envelope.original_content or envelope.content)
        tmp.rename(name)  # appears whole, before the client hears 250
        return "250 Message accepted for delivery"


def main() -> None:
    host, port, directory = sys.argv[1], int(sys.argv[2]), pathlib.Path(sys.argv[3])
    directory.mkdir(parents=True, exist_ok=True)
    controller = Controller(Sink(directory), hostname=host, port=port)
    controller.start()
    print(f"smtp sink on {host}:{port} writing to {directory}", flush=True)
    try:
        asyncio.new_event_loop().run_forever()
    finally:
        controller.stop()


if __name__ == "__main__":
    main()
