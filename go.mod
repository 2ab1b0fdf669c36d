module github.com/ludvae/ludvae

go 1.26.8

require github.com/spf13/pflag v1.1.0

require golang.org/x/image v0.48.0
