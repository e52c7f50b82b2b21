// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import "./interfaces/IERC20.sol";

/// @title A simple time-locked savings vault
contract SavingsVault {
    struct Deposit {
        uint256 amount;
        uint64 unlockAt;
        bool withdrawn;
    }

    enum Status { Active, Paused, Closed }

    address public immutable owner;
    Status public status = Status.Active;
    uint256 public constant MIN_LOCK = 1 days;
    mapping(address => Deposit[]) private deposits;
    uint256 public totalLocked;

    event Deposited(address indexed account, uint256 amount, uint64 unlockAt);
    event Withdrawn(address indexed account, uint256 index, uint256 amount);

    error StillLocked(uint64 unlockAt);
    error NotOwner();

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner();
        _;
    }

    modifier whenActive() {
        require(status == Status.Active, "vault not active");
        _;
    }

    constructor() {
        owner = msg.sender;
    }

    function deposit(uint64 lockSeconds) external payable whenActive {
        require(msg.value > 0, "zero deposit");
        require(lockSeconds >= MIN_LOCK, "lock too short");
        uint64 unlockAt = uint64(block.timestamp) + lockSeconds;
        deposits[msg.sender].push(Deposit({amount: msg.value, unlockAt: unlockAt, withdrawn: false}));
        totalLocked += msg.value;
        emit Deposited(msg.sender, msg.value, unlockAt);
    }

    function withdraw(uint256 index) external {
        Deposit storage d = deposits[msg.sender][index];
        require(!d.withdrawn, "already withdrawn");
        if (block.timestamp < d.unlockAt) {
            revert StillLocked(d.unlockAt);
        }
        d.withdrawn = true;
        totalLocked -= d.amount;
        (bool ok, ) = payable(msg.sender).call{value: d.amount}("");
        require(ok, "transfer failed");
        emit Withdrawn(msg.sender, index, d.amount);
    }

    function pendingOf(address account) public view returns (uint256 total, uint256 count) {
        Deposit[] memory list = deposits[account];
        for (uint256 i = 0; i < list.length; i++) {
            if (!list[i].withdrawn) {
                total += list[i].amount;
                count++;
            }
        }
    }

    function setStatus(Status next) external onlyOwner {
        status = next;
    }

    function sweepToken(IERC20 token, address to) external onlyOwner returns (bool) {
        uint256 balance = token.balanceOf(address(this));
        try token.transfer(to, balance) returns (bool success) {
            return success;
        } catch {
            return false;
        }
    }
}
