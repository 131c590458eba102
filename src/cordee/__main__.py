from cordee.cli import main

main()
