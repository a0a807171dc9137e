from kenal.cli import main

main()
