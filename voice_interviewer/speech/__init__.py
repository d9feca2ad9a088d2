"""Speech: PCM utilities, streaming Whisper transcription with VAD endpointing, and TTS.

Nothing heavy is imported here: channels import the submodules they need
(``speech.listener``, ``speech.engine``, ``speech.pcm``) so that the text channel
and scoring never load faster-whisper.
"""
