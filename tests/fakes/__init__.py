"""Hardware fakes (NVML, nvidia-smi, torch.cuda): stand-ins for the hardware only, never for our own code."""
