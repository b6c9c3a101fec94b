package kernel

const version = "1.139.0"
