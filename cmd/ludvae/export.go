package main

import (
	"errors"
	"fmt"

	"github.com/spf13/pflag"

	"github.com/ludvae/ludvae/model"
	"github.com/ludvae/ludvae/torchbind"
)

func runExport(args []string) error {
	fs := pflag.NewFlagSet("export", pflag.ContinueOnError)
	ckpt := fs.String("model", "", "checkpoint or plain state dict (.pth) to export (required)")
	script := fs.String("torchscript", "", "write the C2N generator as TorchScript to this file")
	pth := fs.String("pth", "", "write a plain state dict that the authors' class loads with strict=True")
	fs.Usage = func() {
		fmt.Fprintln(fs.Output(), "usage: ludvae export --model CKPT [--torchscript OUT.pt] [--pth OUT.pth]")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *ckpt == "" {
		return errors.New("--model is required")
	}
	if *script == "" && *pth == "" {
		return errors.New("nothing to do: give --torchscript OUT.pt and/or --pth OUT.pth")
	}
	torchbind.SetNumThreads(0)
	m, err := model.Load(*ckpt, torchbind.Options{DType: torchbind.Float32})
	if err != nil {
		return err
	}
	defer m.Close()
	if *script != "" {
		if err := m.ExportTorchScript(*script); err != nil {
			return fmt.Errorf("--torchscript %s: %w", *script, err)
		}
		fmt.Printf("wrote TorchScript C2N generator (%v) to %s\n", m.Config, *script)
	}
	if *pth != "" {
		if err := m.SaveStateDict(*pth); err != nil {
			return fmt.Errorf("--pth %s: %w", *pth, err)
		}
		fmt.Printf("wrote state dict (%d parameters) to %s\n", m.NumParams(), *pth)
	}
	return nil
}
