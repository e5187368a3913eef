//go:build wasip1

package main

import "github.com/extism/go-pdk"

func pdkInput() []byte { return pdk.Input() }
