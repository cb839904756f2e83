"""The call log: records, masking, the pipe to the writer process, the store."""
