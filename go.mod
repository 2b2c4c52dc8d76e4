module github.com/osrsim/osrsim

go 1.26
