package main

import "syscall"

type syscallRusage = syscall.Rusage
