from territory_planner.cli import main

if __name__ == "__main__":
    main()
