// Microphone capture on the audio thread: float samples at the device's native rate
// become little-endian PCM16 frames of about 40 ms, posted with the block's level.
// The server resamples, so nothing is resampled here (no quality lost, no work on the page).

class PcmCapture extends AudioWorkletProcessor {
  constructor() {
    super();
    this.frameSamples = Math.max(128, Math.round(sampleRate * 0.04));
    this.buffer = new Int16Array(this.frameSamples);
    this.filled = 0;
    this.sumSquares = 0;
  }

  process(inputs) {
    const channel = inputs[0] && inputs[0][0];
    if (!channel) return true;
    for (let i = 0; i < channel.length; i++) {
      const s = Math.max(-1, Math.min(1, channel[i]));
      this.sumSquares += s * s;
      this.buffer[this.filled++] = s < 0 ? s * 0x8000 : s * 0x7fff;
      if (this.filled === this.frameSamples) {
        const rms = Math.sqrt(this.sumSquares / this.frameSamples);
        const frame = this.buffer.buffer.slice(0);
        this.port.postMessage({ pcm: frame, rms }, [frame]);
        this.filled = 0;
        this.sumSquares = 0;
      }
    }
    return true;
  }
}

registerProcessor('pcm-capture', PcmCapture);
