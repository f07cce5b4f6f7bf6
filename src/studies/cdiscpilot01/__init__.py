"""CDISCPILOT01 (CDISC pilot, xanomeline TTS) CSR appendix 14 analyses: one function per output."""
