module github.com/crmgen/crmgen

go 1.26.0
