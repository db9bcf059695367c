from rmdm_cli.cli import main

main()
